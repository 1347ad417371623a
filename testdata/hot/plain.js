// Nothing accepts updates of this module: editing it reloads the page.
export const plain = "plain one";
