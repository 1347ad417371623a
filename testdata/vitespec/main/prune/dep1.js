// dep1 accepts nothing: its importer, index.js, runs again when it changes.
import "./dep2.js";
import "./dep3.js";
