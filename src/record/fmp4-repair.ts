/**
 * Leave a segment cut short by a crash (kill -9, power loss, a full disk) playable: keep
 * the header and every complete fragment, drop a torn tail (all of it when not one fragment
 * is whole: a header alone is no playable file). Fragmented MP4 (ISO/IEC
 * 14496-12 §8.8): ftyp, moov, then moof + mdat pairs; a moof without its whole mdat, or a
 * box whose size runs past the end of the file, is what a crash leaves. MPEG-TS is cut to a
 * whole number of 188-byte packets (ISO/IEC 13818-1 §2.4.3).
 */
import type { FileHandle } from 'node:fs/promises'

export interface RepairResult {
  /** Bytes the file had. */
  before: number
  /** Bytes kept (the file is truncated to this). */
  after: number
  /** Complete fragments kept (MP4). */
  fragments: number
}

/** What repair needs of the file system (node:fs/promises, or a test's stand-in). */
export interface RepairFs {
  open(path: string, flags: string): Promise<Pick<FileHandle, 'read' | 'stat' | 'truncate' | 'close'>>
}

const TS_PACKET = 188

/** Where a playable prefix of the fMP4 bytes ends: after the last complete moof + mdat. */
export async function scanFragmentedMp4(read: (position: number, length: number) => Promise<Buffer>, size: number): Promise<{ end: number; fragments: number }> {
  let pos = 0
  let end = 0
  let fragments = 0
  let sawMoov = false
  let pendingMoof = false
  while (pos + 8 <= size) {
    const head = await read(pos, 16)
    if (head.length < 8) break
    let boxSize = head.readUInt32BE(0)
    const type = head.toString('latin1', 4, 8)
    if (boxSize === 1) {
      if (head.length < 16) break
      boxSize = Number(head.readBigUInt64BE(8))
    } else if (boxSize === 0) {
      boxSize = size - pos // §4.2: the box runs to the end of the file
    }
    if (boxSize < 8 || pos + boxSize > size) break
    pos += boxSize
    if (type === 'moov') {
      sawMoov = true
      end = pos
    } else if (type === 'moof') {
      pendingMoof = true
    } else if (type === 'mdat' && pendingMoof) {
      pendingMoof = false
      fragments++
      end = pos
    } else if (!pendingMoof) {
      // ftyp, free, mfra, mfro...: complete boxes between fragments are kept.
      end = pos
    }
  }
  // A header without a fragment holds no media (players refuse it): nothing to keep.
  return { end: sawMoov && fragments > 0 ? end : 0, fragments }
}

/** Truncate an interrupted .mp4/.mov (fragmented) or .ts segment to its playable prefix. */
export async function repairSegment(fs: RepairFs, path: string, format: 'mp4' | 'mov' | 'ts'): Promise<RepairResult> {
  const fh = await fs.open(path, 'r+')
  try {
    const { size } = await fh.stat()
    let end: number
    let fragments = 0
    if (format === 'ts') {
      end = size - (size % TS_PACKET)
    } else {
      const read = async (position: number, length: number): Promise<Buffer> => {
        const buf = Buffer.alloc(length)
        const { bytesRead } = await fh.read(buf, 0, length, position)
        return buf.subarray(0, bytesRead)
      }
      ;({ end, fragments } = await scanFragmentedMp4(read, size))
    }
    if (end < size) await fh.truncate(end)
    return { before: size, after: end, fragments }
  } finally {
    await fh.close()
  }
}
