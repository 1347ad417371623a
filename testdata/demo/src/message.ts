export const message: string = "Hello from devserve. Click the button, then edit src/message.ts and save: the count stays.";
