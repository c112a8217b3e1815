/**
 * Pages name paths that publishers choose (ANNOUNCE takes any path): everything is escaped
 * in HTML and percent-encoded in links.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { indexPage, playerPage, urlPath, type PathSummary } from '../../../src/http/pages.js'

const HOSTILE = `a"><img src=x onerror=alert(1)>/b'c`

function summary(path: string): PathSummary {
  const base = urlPath(path)
  return {
    path,
    state: 'live',
    kind: 'publisher',
    viewers: 1,
    rtspReaders: 2,
    tracks: [{ type: 'video', codec: 'H264<b>', width: 640, height: 480 }],
    links: { page: `${base}/`, ws: `${base}/ws`, mp4: `${base}.mp4`, jpg: `${base}.jpg`, whep: `${base}/whep` },
  }
}

test('a hostile path name stays text in the index and the player page', () => {
  for (const html of [indexPage([summary(HOSTILE)]), playerPage(HOSTILE, summary(HOSTILE).links, 'mse,webrtc')]) {
    assert.doesNotMatch(html, /<img src=x/)
    assert.doesNotMatch(html, /H264<b>/)
    assert.match(html, /a&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;/)
  }
})

test('links percent-encode each segment; the transports attribute takes only a plain list', () => {
  assert.equal(urlPath('cams/front door'), '/cams/front%20door')
  assert.equal(urlPath(HOSTILE), '/a%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/b\'c')
  assert.match(playerPage('cam', summary('cam').links, 'mse,webrtc'), /transports="mse,webrtc"/)
  assert.doesNotMatch(playerPage('cam', summary('cam').links, '"><script>'), /transports=/)
})
