export const displayCount = (count) => `count is ${count}`;
