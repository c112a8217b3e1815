import type { LiveMedia } from '../http/live-media.js'

/**
 * Resolve true once `media` knows its tracks. A path whose upstream opens on demand has
 * none until a viewer subscribes, so this subscribes (which opens it) and waits for
 * `tracksChanged`, a first frame or the end, at most `timeoutMs`. The subscription is
 * dropped afterwards; the path keeps the upstream open for its linger time, long enough
 * for the caller's own subscription.
 */
export function waitForTracks(media: LiveMedia, timeoutMs: number): Promise<boolean> {
  if (media.tracks().length > 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    let done = false
    let unsubscribe: (() => void) | undefined
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      // subscribe() may call back before it returns: drop the subscription once it has.
      if (unsubscribe) unsubscribe()
      else queueMicrotask(() => unsubscribe?.())
      resolve(media.tracks().length > 0)
    }
    const check = (): void => {
      if (media.tracks().length > 0) finish()
    }
    const timer = setTimeout(finish, timeoutMs)
    unsubscribe = media.subscribe({ frame: check, tracksChanged: check, end: finish })
  })
}
