/** One instance's result in a STOW-RS response. */
export interface StowResult {
  sopClassUid?: string;
  sopInstanceUid?: string;
  /** Stored (or already stored): where its results are. */
  retrieveUrl?: string;
  /** Failed: the DICOM status (PS3.18 FailureReason). */
  failureReason?: number;
}

const ui = (value: string) => ({ vr: 'UI', Value: [value] });

function reference(result: StowResult): Record<string, unknown> {
  return {
    ...(result.sopClassUid ? { '00081150': ui(result.sopClassUid) } : {}),
    ...(result.sopInstanceUid ? { '00081155': ui(result.sopInstanceUid) } : {}),
  };
}

/**
 * The PS3.18 Store Instances Response Module as application/dicom+json, and its HTTP status:
 * 200 all stored, 202 some failed, 409 none stored (10.5.3).
 */
export function storeResponse(
  results: StowResult[],
  studyRetrieveUrl?: string,
): { status: 200 | 202 | 409; body: Record<string, unknown> } {
  const stored = results.filter((r) => r.failureReason === undefined);
  const failed = results.filter((r) => r.failureReason !== undefined);
  const body: Record<string, unknown> = {};
  if (studyRetrieveUrl && stored.length) body['00081190'] = { vr: 'UR', Value: [studyRetrieveUrl] };
  if (failed.length)
    body['00081198'] = {
      vr: 'SQ',
      Value: failed.map((r) => ({ ...reference(r), '00081197': { vr: 'US', Value: [r.failureReason] } })),
    };
  if (stored.length)
    body['00081199'] = {
      vr: 'SQ',
      Value: stored.map((r) => ({ ...reference(r), '00081190': { vr: 'UR', Value: [r.retrieveUrl] } })),
    };
  const status = failed.length === 0 && stored.length > 0 ? 200 : stored.length === 0 ? 409 : 202;
  return { status, body };
}
