import "missing-modules";

log("missing test");
