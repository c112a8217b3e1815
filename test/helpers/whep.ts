/** WHEP test helpers shared by the unit (werift) and interop (Chromium) tests. */
import type { WhepSession } from '../../src/webrtc/whep-session.js'

/** The reason `session` closes with, chained after the registry's own onClose (which forgets it). */
export function closeReason(session: WhepSession): Promise<string> {
  return new Promise<string>((resolve) => {
    const prev = session.onClose
    session.onClose = (s, reason) => {
      prev?.(s, reason)
      resolve(reason)
    }
  })
}
