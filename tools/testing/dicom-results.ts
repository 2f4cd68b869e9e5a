/**
 * Reading the product's DICOM results back in tests: the SR's per-instance body part and the
 * source instance it refers to, from a dataset naturalized by dcmjs (e.g. read from Orthanc).
 */

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const codeOf = (item: Record<string, any>) => asArray(item.ConceptNameCodeSequence)[0]?.CodeValue;

/** Per measurement group of the SR: the Target Region's code (or its text, for `Others`) and the source SOP it was inferred from. */
export function reportedBodyParts(sr: Record<string, any>): Array<{ code: string; source: string }> {
  const measurements = asArray(sr.ContentSequence).find((i) => codeOf(i) === '126010');
  return asArray(measurements?.ContentSequence as any[])
    .filter((g) => codeOf(g) === '125007')
    .map((group) => {
      const region = asArray(group.ContentSequence as any[]).find((i) => codeOf(i) === '123014');
      const image = asArray(region.ContentSequence as any[]).find((i) => i.ValueType === 'IMAGE');
      return {
        code: region.ValueType === 'CODE' ? asArray(region.ConceptCodeSequence)[0].CodeValue : region.TextValue,
        source: asArray(image.ReferencedSOPSequence)[0].ReferencedSOPInstanceUID,
      };
    });
}

/** The SOP Instance UIDs an SR's Image Library lists (every source instance it reports on). */
export function imageLibrarySources(sr: Record<string, any>): string[] {
  const library = asArray(sr.ContentSequence).find((i) => codeOf(i) === '111028');
  const images: string[] = [];
  const walk = (items: any[]) => {
    for (const item of items) {
      if (item.ValueType === 'IMAGE')
        images.push(asArray(item.ReferencedSOPSequence as any[])[0].ReferencedSOPInstanceUID);
      walk(asArray(item.ContentSequence as any[]));
    }
  };
  walk(asArray(library?.ContentSequence as any[]));
  return images;
}

/** The source instance an SC was derived from (its Source Image Sequence). */
export function scSource(sc: Record<string, any>): string | undefined {
  return asArray(sc.SourceImageSequence as any[])[0]?.ReferencedSOPInstanceUID;
}

export { asArray as dicomSequence };
