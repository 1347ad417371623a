export const message: string = "Hello from devserve. Edit src/message.ts and save.";
