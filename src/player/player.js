/**
 * <rtspkit-player src="/cam/">: a live view of one rtspkit path, with no dependencies.
 * (Over 400 lines: it is shipped and served as this one file, with no bundler.)
 *
 * Tries the transports in order (attribute `transports`, default "webrtc,mse"): WebRTC over
 * WHEP (RFC 9725) at `<src>whep`, then MSE over the WebSocket `<src>ws` (an init segment, then
 * one fMP4 fragment per frame). Reconnects with back-off, keeps to the live edge, starts muted
 * (autoplay policies) with an unmute button, shows codec / size / bitrate / latency with the
 * `stats` attribute (toggle with the "i" button), and says in words when this browser cannot
 * decode the stream. Uses ManagedMediaSource where MediaSource is missing (iPhone Safari).
 *
 * Browser code only: no Node imports. Served at /player.js and shipped as `rtspkit/player`.
 */

const STYLE = `
:host{display:block;position:relative;background:#000;color:#eee;font:13px system-ui,sans-serif;overflow:hidden}
video,img{width:100%;height:100%;object-fit:contain;display:block;background:#000}
img{display:none}
.msg{position:absolute;inset:0;display:none;align-items:center;justify-content:center;text-align:center;padding:24px;background:rgba(0,0,0,.75);line-height:1.5}
.msg a{color:#8cf}
.bar{position:absolute;top:8px;right:8px;display:flex;gap:6px}
button{font:inherit;color:#fff;background:rgba(0,0,0,.6);border:1px solid #666;border-radius:4px;padding:3px 8px;cursor:pointer}
.stats{position:absolute;left:8px;top:8px;background:rgba(0,0,0,.6);padding:6px 8px;border-radius:4px;white-space:pre;font:12px ui-monospace,monospace;display:none}
`

/** Codec strings → words, for "this browser cannot decode …". */
function codecName(c) {
  if (/^(hvc1|hev1)/.test(c)) return 'H.265 (HEVC)'
  if (/^(avc1|avc3)/.test(c)) return 'H.264'
  if (/^mp4a/.test(c)) return 'AAC'
  if (c === 'opus') return 'Opus'
  if (c === 'flac') return 'FLAC (G.711 audio converted)'
  return c
}

function mediaSourceClass() {
  // iPhone Safari (iOS 17.1+) has only ManagedMediaSource.
  return window.MediaSource || window.ManagedMediaSource
}

export class RtspkitPlayer extends HTMLElement {
  static get observedAttributes() {
    return ['src', 'stats']
  }

  constructor() {
    super()
    const root = this.attachShadow({ mode: 'open' })
    root.innerHTML = `<style>${STYLE}</style><video playsinline muted autoplay></video><img alt="">
<div class="stats"></div><div class="msg"></div>
<div class="bar"><button class="unmute" title="Unmute">Unmute</button><button class="info" title="Statistics">i</button></div>`
    /** The video element (tests and pages may read currentTime, videoWidth, …). */
    this.video = root.querySelector('video')
    this.img = root.querySelector('img')
    this.msg = root.querySelector('.msg')
    this.statsBox = root.querySelector('.stats')
    this.unmuteButton = root.querySelector('.unmute')
    /** 'webrtc' | 'mse' | 'mjpeg' | undefined: the transport playing now. */
    this.transport = undefined
    /** The message shown, when one is (e.g. the codec cannot be decoded here). */
    this.error = undefined
    /** MSE type of the stream, e.g. video/mp4; codecs="avc1.42c01e,mp4a.40.2". */
    this.mime = undefined
    this.bytes = 0
    this.fragments = 0
    /** Video frames received over MSE (to compare with getVideoPlaybackQuality). */
    this.videoFramesReceived = 0
    this._session = 0
    this._retry = 0
    this._cleanup = []
    this.video.muted = true
    this.unmuteButton.addEventListener('click', () => {
      this.video.muted = false
      this.video.play().catch(() => {})
      this._updateUnmute()
    })
    this.video.addEventListener('volumechange', () => this._updateUnmute())
    root.querySelector('.info').addEventListener('click', () => {
      if (this.hasAttribute('stats')) this.removeAttribute('stats')
      else this.setAttribute('stats', '')
    })
  }

  connectedCallback() {
    this._start()
    this._statsTimer = setInterval(() => this._tick(), 500)
  }

  disconnectedCallback() {
    clearInterval(this._statsTimer)
    this._stop()
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (name === 'src' && oldValue !== null && oldValue !== newValue && this.isConnected) this._start()
    if (name === 'stats') this.statsBox.style.display = newValue === null ? 'none' : 'block'
  }

  /** Base URL of the path, ending in '/': `/cam/` → /cam/ws, /cam/whep, /cam.mp4, /cam.jpg. */
  get base() {
    const src = this.getAttribute('src') || './'
    const u = new URL(src, location.href)
    if (!u.pathname.endsWith('/')) u.pathname += '/'
    return u
  }

  _link(suffix) {
    const u = new URL(this.base)
    u.pathname = u.pathname.replace(/\/$/, '') + suffix
    return u.href
  }

  get transports() {
    return (this.getAttribute('transports') || 'webrtc,mse').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  }

  _updateUnmute() {
    this.unmuteButton.style.display = this.video.muted ? '' : 'none'
  }

  _show(html) {
    this.msg.innerHTML = html
    this.msg.style.display = html ? 'flex' : 'none'
  }

  _fail(text, html) {
    this.error = text
    this._show(html || text)
    this.dispatchEvent(new CustomEvent('rtspkit-error', { detail: { message: text } }))
  }

  _stop() {
    this._session++
    clearTimeout(this._retryTimer)
    for (const f of this._cleanup.splice(0)) {
      try {
        f()
      } catch {}
    }
    this.transport = undefined
  }

  async _start() {
    this._stop()
    const session = this._session
    this.error = undefined
    this._show('')
    this._updateUnmute()
    for (const t of this.transports) {
      if (session !== this._session) return
      try {
        if (t === 'webrtc') await this._webrtc(session)
        else if (t === 'mse') await this._mse(session)
        else continue
        return
      } catch (err) {
        if (err && err.fatal) return this._fail(err.message, err.html)
        if (t === 'mse') this._mseFailed = true
        for (const f of this._cleanup.splice(0)) {
          try {
            f()
          } catch {}
        }
      }
    }
    if (session === this._session) this._reconnect(session, 'no transport could play the stream')
  }

  /** Try again after a growing pause (1, 2, 4 … 10 s). */
  _reconnect(session, why) {
    if (session !== this._session) return
    this._stop()
    const delay = Math.min(10000, 1000 * 2 ** this._retry++)
    this._show(`Reconnecting… (${why})`)
    const next = this._session
    this._retryTimer = setTimeout(() => {
      if (next === this._session) this._start()
    }, delay)
  }

  _playing(transport) {
    this.transport = transport
    if (transport === 'mse') this._mseFailed = false
    this._retry = 0
    this._show('')
    this.video.play().catch(() => {})
    this.dispatchEvent(new CustomEvent('rtspkit-playing', { detail: { transport } }))
  }

  // ---- WebRTC (WHEP, RFC 9725) ----

  async _webrtc(session) {
    if (typeof RTCPeerConnection === 'undefined') throw new Error('no WebRTC here')
    const pc = new RTCPeerConnection()
    this._pc = pc
    let resource
    this._cleanup.push(() => {
      pc.close()
      this._pc = undefined
      if (resource) fetch(resource, { method: 'DELETE' }).catch(() => {})
      this.video.srcObject = null
    })
    pc.addTransceiver('video', { direction: 'recvonly' })
    pc.addTransceiver('audio', { direction: 'recvonly' })
    const stream = new MediaStream()
    pc.ontrack = (e) => stream.addTrack(e.track)
    await pc.setLocalDescription(await pc.createOffer())
    // No trickle ICE: wait (briefly) for the host candidates to be in the offer.
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve()
      const t = setTimeout(resolve, 1000)
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t)
          resolve()
        }
      })
    })
    const res = await fetch(this._link('/whep'), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp })
    if (res.status !== 201) throw new Error(`WHEP: ${res.status} ${await res.text()}`)
    const loc = res.headers.get('Location')
    if (loc) resource = new URL(loc, this._link('/whep')).href
    /** What the server could not send over WebRTC (e.g. AAC audio), in words. */
    this.note = res.headers.get('X-Rtspkit-Note') || undefined
    // Sound matters more than a few ms: AAC (common on cameras) plays through MSE, not WebRTC.
    if (this.note && /audio cannot go over WebRTC/.test(this.note) && this.transports.includes('mse') && mediaSourceClass() && !this._mseFailed) {
      throw new Error(`WebRTC would be video only (${this.note})`)
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() })
    if (session !== this._session) return
    const hasVideo = pc.getReceivers().some((r) => r.track.kind === 'video' && pc.getTransceivers().some((t) => t.receiver === r && t.currentDirection !== 'inactive'))
    if (!hasVideo) throw new Error('WHEP: the answer carries no video')
    this.video.srcObject = stream
    // Connected and a first frame within 5 s, or the next transport.
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('WebRTC: no picture within 5 s')), 5000)
      const onFrame = () => {
        clearTimeout(timer)
        resolve()
      }
      this.video.addEventListener('loadeddata', onFrame, { once: true })
      this._cleanup.push(() => {
        clearTimeout(timer)
        this.video.removeEventListener('loadeddata', onFrame)
      })
    })
    if (session !== this._session) return
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed' || pc.connectionState === 'disconnected') this._reconnect(session, 'WebRTC connection lost')
    })
    this._playing('webrtc')
  }

  // ---- MSE over WebSocket ----

  _mse(session) {
    return new Promise((resolve, reject) => {
      const MS = mediaSourceClass()
      const ws = new WebSocket(this._link('/ws').replace(/^http/, 'ws'))
      ws.binaryType = 'arraybuffer'
      let started = false
      let ms, sb, url
      const queue = []
      const cleanup = () => {
        ws.onclose = ws.onmessage = ws.onerror = null
        ws.close()
        if (url) URL.revokeObjectURL(url)
        this._sb = undefined
      }
      this._cleanup.push(cleanup)
      const pump = () => {
        if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return
        const buf = queue.shift()
        try {
          sb.appendBuffer(buf)
        } catch (err) {
          if (err && err.name === 'QuotaExceededError') {
            // Full: drop what is already played and try again.
            queue.unshift(buf)
            const t = this.video.currentTime
            if (t > 2) sb.remove(0, t - 1)
          } else this._reconnect(session, `MSE: ${err.message}`)
        }
      }
      const open = (mime) => {
        if (!MS) {
          const e = new Error('This browser has no Media Source Extensions (MediaSource or ManagedMediaSource): it cannot play the MSE stream.')
          e.fatal = true
          e.html = `${e.message}<br>Open the <a href="${this._link('.mp4')}">live .mp4</a> or the <a href="${this._link('.jpg')}">snapshot</a>.`
          throw e
        }
        if (!MS.isTypeSupported(mime)) {
          const codecs = (/codecs="([^"]*)"/.exec(mime) || [])[1] || ''
          const missing = codecs.split(',').filter((c) => !MS.isTypeSupported(`${mime.split(';')[0]}; codecs="${c}"`))
          const names = (missing.length ? missing : codecs.split(',')).map(codecName).join(' and ')
          const text = `This stream is ${names}, and this browser cannot decode ${names} (no ${names} support in its Media Source Extensions). Watch the snapshot or open the .mp4 in a player that can (VLC, ffplay).`
          const e = new Error(text)
          e.fatal = true
          e.html = `This stream is <b>${names}</b>, and this browser cannot decode ${names} (no ${names} support in its Media Source Extensions).<br>Fallback: the <a href="${this._link('.jpg')}">snapshot</a>, or open the <a href="${this._link('.mp4')}">live .mp4</a> in VLC or ffplay.<br><img src="${this._link('.jpg')}" style="display:block;max-width:60%;margin:12px auto" onerror="this.remove()">`
          throw e
        }
        this.mime = mime
        ms = new MS()
        url = URL.createObjectURL(ms)
        if (!window.MediaSource) this.video.disableRemotePlayback = true // ManagedMediaSource needs it
        this.video.srcObject = null
        this.video.src = url
        ms.addEventListener('sourceopen', () => {
          sb = ms.addSourceBuffer(mime)
          sb.mode = 'segments'
          this._sb = sb
          sb.addEventListener('updateend', pump)
          pump()
        }, { once: true })
      }
      ws.onmessage = (e) => {
        if (session !== this._session) return
        if (typeof e.data === 'string') {
          const m = JSON.parse(e.data)
          if (m.type === 'init') {
            try {
              if (this.mime !== m.mime || !sb) {
                if (sb) {
                  // New codec parameters: a fresh MediaSource.
                  URL.revokeObjectURL(url)
                  sb = undefined
                  queue.length = 0
                }
                open(m.mime)
              }
              this.codecs = m.codecs
              this.skipped = m.skipped
            } catch (err) {
              cleanup()
              return reject(err)
            }
          } else if (m.type === 'mjpeg') {
            cleanup()
            this._mjpeg(m.url)
            resolve()
          } else if (m.type === 'end') {
            this._reconnect(session, m.reason)
          }
          return
        }
        this.bytes += e.data.byteLength
        this.fragments++
        // tfhd track_ID of a one-frame fragment (moof 8 + mfhd 16 + traf 8 + tfhd 12): video frames received.
        const buf = e.data
        if (buf.byteLength > 48 && this.codecs) {
          const c = this.codecs[new DataView(buf).getUint32(44) - 1]
          if (c && /^(avc|hvc|hev)/.test(c.mime)) this.videoFramesReceived++
        }
        // A tab in the background appends nothing: keep the queue short rather than grow.
        if (queue.length > 300) queue.splice(1, queue.length - 1)
        queue.push(e.data)
        pump()
        if (!started && this.fragments > 1) {
          started = true
          this._playing('mse')
          resolve()
        }
      }
      ws.onerror = () => {}
      ws.onclose = (e) => {
        if (!started) reject(new Error(`MSE: the WebSocket closed (${e.code} ${e.reason})`))
        else this._reconnect(session, e.reason || 'the stream stopped')
      }
    })
  }

  _mjpeg(src) {
    this.video.style.display = 'none'
    this.img.style.display = 'block'
    this.img.src = new URL(src, location.href).href
    this._cleanup.push(() => {
      this.img.removeAttribute('src')
      this.img.style.display = 'none'
      this.video.style.display = ''
    })
    this._playing('mjpeg')
  }

  /** Every 500 ms: keep to the live edge (MSE) and refresh the statistics. */
  _tick() {
    const v = this.video
    const sb = this._sb
    if (this.transport === 'mse' && sb && v.buffered.length > 0) {
      const last = v.buffered.length - 1
      const end = v.buffered.end(last)
      const start = v.buffered.start(last)
      // Behind a gap (frames skipped on a slow link) or far behind: jump; a little behind: play
      // 10 % faster. Frames come one by one, so a few frames of buffer are enough for video;
      // audio keeps a little more, so that its renderer never runs dry (a stall is heard).
      const target = this.codecs && this.codecs.some((c) => !/^(avc|hvc|hev)/.test(c.mime)) ? 0.2 : 0.08
      if (v.currentTime < start || end - v.currentTime > 1) v.currentTime = Math.max(start, end - target / 2)
      else v.playbackRate = end - v.currentTime > target ? 1.1 : 1
      if (v.paused) v.play().catch(() => {})
      if (!sb.updating && v.currentTime - v.buffered.start(0) > 30) {
        try {
          sb.remove(0, v.currentTime - 10)
        } catch {}
      }
    }
    const now = performance.now()
    if (this._lastStats) {
      const dt = (now - this._lastStats.at) / 1000
      if (this.transport === 'mse') this.bitrate = ((this.bytes - this._lastStats.bytes) * 8) / dt
    }
    this._lastStats = { at: now, bytes: this.bytes }
    if (this.transport === 'webrtc' && this._pc) this._webrtcStats()
    if (!this.hasAttribute('stats')) return
    const lines = [`transport  ${this.transport || '-'}`]
    if (this.codecs) lines.push(`codecs     ${this.codecs.map((c) => c.mime).join(', ')}`)
    if (v.videoWidth) lines.push(`size       ${v.videoWidth}×${v.videoHeight}`)
    if (this.bitrate !== undefined) lines.push(`bitrate    ${(this.bitrate / 1e6).toFixed(2)} Mbit/s`)
    const lat = this.latency()
    if (lat !== undefined) lines.push(`latency    ${Math.round(lat * 1000)} ms (buffer)`)
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : undefined
    if (q) lines.push(`frames     ${q.totalVideoFrames} (${q.droppedVideoFrames} dropped)`)
    if (this.note && this.transport === 'webrtc') lines.push(`note       ${this.note}`)
    this.statsBox.textContent = lines.join('\n')
  }

  /** Seconds between the newest media received and what is shown (MSE: buffered end − currentTime). */
  latency() {
    const v = this.video
    if (this.transport === 'mse' && v.buffered.length > 0) return Math.max(0, v.buffered.end(v.buffered.length - 1) - v.currentTime)
    if (this.transport === 'webrtc') return this._rtcLatency
    return undefined
  }

  async _webrtcStats() {
    const report = await this._pc.getStats()
    let bytes = 0
    report.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        bytes += s.bytesReceived || 0
        if (s.kind === 'video' && s.jitterBufferEmittedCount) this._rtcLatency = s.jitterBufferDelay / s.jitterBufferEmittedCount
        if (s.kind === 'video' && s.codecId) {
          const c = report.get(s.codecId)
          if (c) this.codecs = [{ mime: c.mimeType.replace(/^video\//, '') }]
        }
      }
    })
    const now = performance.now()
    if (this._rtcLast) this.bitrate = ((bytes - this._rtcLast.bytes) * 8) / ((now - this._rtcLast.at) / 1000)
    this._rtcLast = { at: now, bytes }
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('rtspkit-player')) customElements.define('rtspkit-player', RtspkitPlayer)
