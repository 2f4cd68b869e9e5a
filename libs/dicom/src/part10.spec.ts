import { DicomHeaderError, readDicomHeader } from './header';
import { fileMetaHeader } from './part10';

/** A tiny Explicit VR Little Endian data set with the UIDs intake needs. */
function dataSet(): Buffer {
  const el = (group: number, element: number, vr: string, value: string) => {
    const v = Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
    const head = Buffer.alloc(8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(element, 2);
    head.write(vr, 4, 'latin1');
    head.writeUInt16LE(v.length, 6);
    return Buffer.concat([head, v]);
  };
  return Buffer.concat([
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    el(0x0008, 0x0018, 'UI', '1.2.3.4.5'),
    el(0x0008, 0x0050, 'SH', 'ACC42 '),
    el(0x0020, 0x000d, 'UI', '1.2.3.4'),
  ]);
}

describe('fileMetaHeader + readDicomHeader', () => {
  it('makes a Part 10 file whose header reads back, the data set bytes untouched', () => {
    const body = dataSet();
    const meta = fileMetaHeader({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
      sopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sourceAeTitle: 'CT1',
    });
    const file = Buffer.concat([meta, body]);
    expect(file.subarray(meta.length).equals(body)).toBe(true);
    expect(readDicomHeader(file)).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
      sopInstanceUid: '1.2.3.4.5',
      studyInstanceUid: '1.2.3.4',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      accessionNumber: 'ACC42',
    });
  });

  it('says why a data set cannot place an instance', () => {
    expect(() => readDicomHeader(Buffer.from('not dicom'))).toThrow(DicomHeaderError);
    const noStudy = Buffer.concat([
      fileMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.3', transferSyntaxUid: '1.2.840.10008.1.2.1' }),
      dataSet().subarray(0, 8 + 26 + 8 + 10),
    ]);
    expect(() => readDicomHeader(noStudy)).toThrow(/StudyInstanceUID/);
  });
});
