/**
 * Rewriting a received SDP for re-serving it: a publisher's description goes to readers
 * with controls of the server's own naming.
 */

/**
 * The SDP with each media's a=control replaced by `trackID=N` (RFC 2326 C.1.1: the control
 * URL of a media is relative to the Content-Base the server answers); the session-level
 * control is dropped, so the aggregate URL is the Content-Base itself.
 */
export function rewriteControls(sdp: string): string {
  const lines = sdp.split(/\r?\n/)
  const out: string[] = []
  let media = -1
  const flush = (): void => {
    if (media >= 0) out.push(`a=control:trackID=${media}`)
  }
  for (const line of lines) {
    if (line === '') continue
    if (line.startsWith('m=')) {
      flush()
      media++
    }
    if (/^a=control:/i.test(line)) continue
    out.push(line)
  }
  flush()
  return out.join('\r\n') + '\r\n'
}
