export {
  RTCP_APP,
  RTCP_BYE,
  RTCP_RR,
  RTCP_SDES,
  RTCP_SR,
  SDES_CNAME,
  SDES_NAME,
  SDES_TOOL,
  NTP_UNIX_OFFSET_S,
  buildEmptyReceiverReport,
  buildReceiverReport,
  buildSenderReport,
  isRtcp,
  ntpFromDate,
  ntpMiddle32,
  ntpToUnixMs,
  parseRtcpPacket,
} from './packets.js'
export type {
  Goodbye,
  NtpTimestamp,
  ReceiverReport,
  ReceiverReportInit,
  ReportBlock,
  RtcpPacket,
  SdesChunk,
  SdesItem,
  SenderReport,
  SenderReportInit,
  SourceDescription,
} from './packets.js'
export { ReceiverStats } from './receiver-stats.js'
export type { ReceiverStatsOptions } from './receiver-stats.js'
