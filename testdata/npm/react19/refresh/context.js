import { createContext } from "react";

// The context lives in a module of its own, so that an edit of the
// provider keeps it (and the state under it).
export const Theme = createContext("none");
