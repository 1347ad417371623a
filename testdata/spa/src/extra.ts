// Named only by public/page.html, which is not searched for entries.
console.log("extra");
