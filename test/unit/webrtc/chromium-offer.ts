/**
 * An offer from Debian's Chromium 156 (recvonly video + audio transceivers), captured with
 * playwright-core; kept byte for byte in test/fixtures/webrtc/ (stored with LF, sent with CRLF).
 */
import { readFileSync } from 'node:fs'

export const CHROMIUM_OFFER = readFileSync(new URL('../../fixtures/webrtc/chromium-156-offer.sdp', import.meta.url), 'utf8').replace(/\r?\n/g, '\r\n')
