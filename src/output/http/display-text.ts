/**
 * Plain-language texts for the lane display, in Vietnamese and English. Travellers read these,
 * so they say what to do, not how the check failed; the stable code is shown small for officers.
 * Every reason code of docs/reasons.md must have an entry (a test keeps them in step);
 * an unknown code falls back to a generic text rather than showing nothing.
 */
export type Lang = "vi" | "en";
export interface Text {
  vi: string;
  en: string;
}

export const FLAG_REASONS: Readonly<Record<string, Text>> = {
  INPUT_UNREADABLE: { en: "The code could not be read", vi: "Không đọc được mã" },
  PREFIX_UNKNOWN: { en: "This code is not a recognised pass", vi: "Mã này không phải là thẻ được chấp nhận" },
  BASE45_INVALID: { en: "The code could not be read as a pass", vi: "Không đọc được mã như một thẻ hợp lệ" },
  NUMERIC_INVALID: { en: "The code could not be read as a pass", vi: "Không đọc được mã như một thẻ hợp lệ" },
  DECOMPRESS_FAILED: { en: "The code could not be read as a pass", vi: "Không đọc được mã như một thẻ hợp lệ" },
  SIZE_LIMIT: { en: "The code is too large to be a valid pass", vi: "Mã quá lớn, không phải thẻ hợp lệ" },
  STRUCTURE_INVALID: { en: "The pass is damaged or malformed", vi: "Thẻ bị hỏng hoặc sai định dạng" },
  KID_MISSING: { en: "The pass does not name its signing key", vi: "Thẻ không ghi khóa ký" },
  KEY_UNKNOWN: { en: "The issuer's key is not known here", vi: "Không nhận ra khóa của cơ quan cấp" },
  ALG_UNSUPPORTED: { en: "The pass uses an unsupported signature type", vi: "Thẻ dùng kiểu chữ ký không được hỗ trợ" },
  ALG_KEY_MISMATCH: { en: "The signature does not match the issuer's key", vi: "Chữ ký không khớp với khóa của cơ quan cấp" },
  SIGNATURE_INVALID: { en: "The signature is not valid: the pass may have been altered", vi: "Chữ ký không hợp lệ: thẻ có thể đã bị sửa đổi" },
  NOT_YET_VALID: { en: "The pass is not valid yet", vi: "Thẻ chưa có hiệu lực" },
  EXPIRED: { en: "The pass has expired", vi: "Thẻ đã hết hạn" },
  KEY_EXPIRED: { en: "The issuer's key was not valid when the pass was signed", vi: "Khóa của cơ quan cấp không còn hiệu lực khi ký thẻ" },
  KEY_USAGE_MISMATCH: { en: "The issuer may not sign this kind of pass", vi: "Cơ quan cấp không được phép ký loại thẻ này" },
  ISSUER_UNTRUSTED: { en: "The issuer is not trusted", vi: "Cơ quan cấp không được tin cậy" },
  REVOKED: { en: "The pass has been revoked", vi: "Thẻ đã bị thu hồi" },
  TRUST_STALE: { en: "Verification data is out of date", vi: "Dữ liệu xác thực đã cũ" },
  CLOCK_UNTRUSTED: { en: "The pass could not be checked: the system clock is wrong", vi: "Không thể kiểm tra thẻ: đồng hồ hệ thống bị sai" },
  POLICY_REJECTED: { en: "The pass does not meet the entry rules here", vi: "Thẻ không đáp ứng quy định tại điểm này" },
  SHC_CHUNKS_INCOMPLETE: { en: "Only part of the code was read: show every part", vi: "Chỉ đọc được một phần mã: hãy đưa tất cả các phần" },
  FORMAT_NOT_ACCEPTED: { en: "This kind of pass is not accepted at this lane", vi: "Loại thẻ này không được chấp nhận tại làn này" },
  REPLAYED: { en: "This pass was already used just now", vi: "Thẻ này vừa được sử dụng" },
  INTERNAL_ERROR: { en: "The pass could not be checked", vi: "Không thể kiểm tra thẻ" },
};

export const GENERIC_FLAG: Text = { en: "The pass could not be accepted", vi: "Không thể chấp nhận thẻ" };

/** Why a lane is out of service; codes may carry a detail after ':' (e.g. CAMERAS_DOWN:cam-1). */
export const OOS_REASONS: Readonly<Record<string, Text>> = {
  CAMERAS_DOWN: { en: "Camera not working", vi: "Camera không hoạt động" },
  CAMERA_DOWN: { en: "Camera not working", vi: "Camera không hoạt động" },
  NO_CAMERA: { en: "No camera on this lane", vi: "Làn này chưa có camera" },
  TRUST_STALE: { en: "Verification data is out of date", vi: "Dữ liệu xác thực đã cũ" },
  CLOCK_UNTRUSTED: { en: "System clock is wrong", vi: "Đồng hồ hệ thống bị sai" },
  NO_HEARTBEAT: { en: "Gateway not responding", vi: "Hệ thống không phản hồi" },
  LANE_PAUSED: { en: "Lane closed by an officer", vi: "Làn đã được cán bộ tạm đóng" },
  // Not an officer's pause: the saved lane state could not be read at start (src/app/pauses.ts).
  PAUSE_STATE_UNREADABLE: { en: "Lane closed: its state could not be restored. An officer must reopen it.", vi: "Làn tạm đóng: không khôi phục được trạng thái. Cán bộ cần mở lại làn." },
  GATEWAY_STOPPING: { en: "Gateway is restarting", vi: "Hệ thống đang khởi động lại" },
  SHUTTING_DOWN: { en: "Gateway is restarting", vi: "Hệ thống đang khởi động lại" },
  STARTING: { en: "Lane is starting", vi: "Làn đang khởi động" },
  EVENTS_SEQ_ERROR: { en: "Lane unavailable: records cannot be saved", vi: "Làn không khả dụng: không lưu được dữ liệu" },
  UNKNOWN_LANE: { en: "This lane is not configured", vi: "Làn này chưa được cấu hình" },
  LANE_STARTING: { en: "Lane is starting", vi: "Làn đang khởi động" },
  OUT_OF_SERVICE: { en: "Lane unavailable", vi: "Làn không khả dụng" },
  DECODE_DOWN: { en: "Code reader not working", vi: "Bộ đọc mã không hoạt động" },
  INGEST_ERROR: { en: "Camera not working", vi: "Camera không hoạt động" },
  CAMERAS_BLIND: { en: "Camera cannot see", vi: "Camera không nhìn thấy" },
};

export const GENERIC_OOS: Text = { en: "Lane unavailable", vi: "Làn không khả dụng" };

export const HEADLINES = {
  idle: { en: "Show your code", vi: "Vui lòng đưa mã QR" },
  idleHint: { en: "Hold the QR code towards the camera", vi: "Đưa mã QR về phía camera" },
  pass: { en: "Accepted, please proceed", vi: "Hợp lệ, mời đi tiếp" },
  flag: { en: "Please see an officer", vi: "Vui lòng gặp cán bộ" },
  // A traveller needs what to do, not why: the cause is shown small underneath for officers.
  oos: { en: "This lane is closed", vi: "Làn này tạm ngừng" },
  oosHint: { en: "Please use another lane", vi: "Vui lòng sang làn khác" },
} as const satisfies Record<string, Text>;

function baseCode(code: string): string {
  const i = code.indexOf(":");
  return i < 0 ? code : code.slice(0, i);
}

export function flagText(reason: string): Text {
  return FLAG_REASONS[baseCode(reason)] ?? GENERIC_FLAG;
}

export function oosText(problem: string | undefined): Text {
  return (problem && OOS_REASONS[baseCode(problem)]) || GENERIC_OOS;
}
