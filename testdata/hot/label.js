export const label = "label one";
