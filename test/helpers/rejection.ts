// The error a promise rejects with; fails the test when it resolves instead.
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a value');
}

/** Expected rejections of a test file, kept so its afterAll can check no message carries a secret. */
export function failureLog(): { messages: string[]; failure(p: Promise<unknown>): Promise<Error> } {
  const messages: string[] = [];
  return {
    messages,
    async failure(p) {
      const err = await rejection(p);
      messages.push(err.message);
      return err;
    },
  };
}
