export const value = "one";
