/** Polls `cond` every 5 ms until it holds; throws naming `what` after `timeoutMs`. For the broker's side of an action a client does not await. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
