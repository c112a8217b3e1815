/**
 * Wait for what a test is about to rely on (a recording has started, a drop was noticed)
 * instead of sleeping for a time that is enough on an idle machine: on a loaded one the
 * child process may not even have connected yet. `ms` only bounds a hang.
 */
export async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 60_000, everyMs = 200): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
