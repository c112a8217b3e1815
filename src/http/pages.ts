/**
 * The HTML of the HTTP side: the index of paths and one player page per path. Everything
 * interpolated is escaped; no page ever holds a camera's URL or credentials (paths only).
 */

export interface PathSummary {
  path: string
  state: 'live' | 'idle'
  kind: string
  viewers: number
  rtspReaders: number
  tracks: Array<{ type: string; codec: string; width?: number; height?: number; sampleRate?: number; channels?: number; codecString?: string }>
  /** Bits per second over the last seconds, when live. */
  bitrate?: number
  links: { page: string; ws: string; mp4: string; jpg: string; whep: string; mjpeg?: string }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** `/cams/front` style URL path of a stream path, each segment percent-encoded. */
export function urlPath(path: string): string {
  return '/' + path.split('/').map(encodeURIComponent).join('/')
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:0;background:#111;color:#ddd}
a{color:#8cf}header{padding:10px 16px;background:#1b1b1b;border-bottom:1px solid #333}
main{padding:16px}table{border-collapse:collapse}td,th{padding:6px 10px;border-bottom:1px solid #333;text-align:left;vertical-align:middle}
img.snap{width:160px;height:90px;object-fit:cover;background:#222;display:block}.live{color:#6d6}.idle{color:#999}
rtspkit-player{display:block;max-width:1280px;width:100%;aspect-ratio:16/9}`

export function trackText(t: PathSummary['tracks'][number]): string {
  if (t.type === 'video') return `${t.codec}${t.width !== undefined ? ` ${t.width}×${t.height}` : ''}`
  return `${t.codec}${t.sampleRate !== undefined ? ` ${t.sampleRate / 1000} kHz` : ''}${t.channels === 2 ? ' stereo' : ''}`
}

export function indexPage(paths: readonly PathSummary[]): string {
  const rows = paths
    .map((p) => {
      const href = escapeHtml(p.links.page)
      return `<tr><td><a href="${href}"><img class="snap" src="${escapeHtml(p.links.jpg)}" alt="" loading="lazy" onerror="this.style.visibility='hidden'"></a></td>
<td><a href="${href}">/${escapeHtml(p.path)}</a></td><td>${escapeHtml(p.tracks.map(trackText).join(' + '))}</td>
<td class="${p.state}">${p.state}</td><td>${p.viewers}</td><td>${p.rtspReaders}</td><td><a href="${escapeHtml(p.links.mp4)}">.mp4</a></td></tr>`
    })
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="15"><title>rtspkit</title><style>${STYLE}</style></head>
<body><header><b>rtspkit</b> · live paths</header><main>
${paths.length === 0 ? '<p>No path is served yet. Publish to one (<code>rtspkit push clip.mp4 rtsp://…/live</code>) or start <code>rtspkit serve cam=clip.mp4</code>.</p>' : `<table><thead><tr><th></th><th>Path</th><th>Codecs</th><th>State</th><th>Browser viewers</th><th>RTSP readers</th><th></th></tr></thead><tbody>
${rows}</tbody></table>`}
<p><a href="/api/paths">/api/paths</a></p></main></body></html>`
}

/** `transports`: the player's order (e.g. `mse,webrtc`, from the page's `?transports=`). */
export function playerPage(path: string, links: PathSummary['links'], transports?: string): string {
  const p = escapeHtml(path)
  const order = transports !== undefined && /^[a-z,]{1,40}$/.test(transports) ? ` transports="${transports}"` : ''
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>/${p} · rtspkit</title><style>${STYLE}</style><script type="module" src="/player.js"></script></head>
<body><header><a href="/">rtspkit</a> · /${p}</header><main>
<rtspkit-player src="${escapeHtml(links.page)}"${order}></rtspkit-player>
<p><a href="${escapeHtml(links.mp4)}">${p}.mp4</a> (VLC, ffplay, curl) · <a href="${escapeHtml(links.jpg)}">snapshot</a></p>
</main></body></html>`
}
