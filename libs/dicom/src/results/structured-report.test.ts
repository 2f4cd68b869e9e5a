/** The study SR, checked with dciodvfy (IOD) and dsrdump (tree) and read back with dcmjs. */
import { BODY_PART_LABELS } from '@xray/shared';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dciodvfy, dcmtk } from '../../test/dicom-tools';
import { children, readDicom, tempDir, type Natural } from '../../test/read-dicom';
import { instanceResult, outOfDistribution, studyInput, STUDY_UID } from '../../test/result-fixtures';
import { bodyPartCoding } from './body-part-codes';
import { buildStudyReport, COMPREHENSIVE_SR_SOP_CLASS, OUT_OF_DISTRIBUTION_NOTICE } from './structured-report';

// External tools and servers on a shared machine: allow for slow starts.
jest.setTimeout(60_000);

const tmp = tempDir('xray-sr-');
afterAll(() => tmp.remove());

const first = (sq: unknown): Natural => [sq].flat()[0] as Natural;

describe('study Structured Report', () => {
  const input = studyInput();
  const report = buildStudyReport(input);
  const dataset = readDicom(report.bytes);

  it('passes dciodvfy with no errors', () => {
    const check = dciodvfy(tmp.file('sr.dcm', report.bytes));
    expect(check.output).toContain('ComprehensiveSR');
    expect(check.errors).toEqual([]);
    // Only our private coding scheme is unknown to dciodvfy.
    expect(check.warnings.filter((w) => !w.includes('<99XRAY>'))).toEqual([]);
  });

  it('files into the source study with the same Patient and Study modules, in its own series', () => {
    expect(dataset).toMatchObject({
      SOPClassUID: COMPREHENSIVE_SR_SOP_CLASS,
      PatientID: 'PAT-001',
      PatientBirthDate: '19700101',
      StudyInstanceUID: STUDY_UID,
      AccessionNumber: 'ACC-42',
      StudyDescription: 'XR CHEST PA',
      Modality: 'SR',
      SeriesDescription: 'AI body part',
      CompletionFlag: 'COMPLETE',
      VerificationFlag: 'UNVERIFIED',
      ContentDate: '20261207',
      ContentTime: '134530',
    });
    expect(first(dataset.PatientName).Alphabetic ?? dataset.PatientName).toBe('Doe^Jane');
    // dcmjs reports every file it reads as UTF-8, so the stored character set is read with dcmdump.
    expect(dcmtk('dcmdump', ['+P', '0008,0005', tmp.file('charset.dcm', report.bytes)])).toContain('[ISO_IR 100]');
    expect(dataset.SeriesInstanceUID).not.toBe(input.instances[0].source.SeriesInstanceUID);
    expect(report).toMatchObject({ studyInstanceUid: STUDY_UID, sopInstanceUid: dataset.SOPInstanceUID });
    const equipment = first(dataset.ContributingEquipmentSequence);
    expect(equipment).toMatchObject({ Manufacturer: 'xray-bodypart project' });
    expect(first(equipment.PurposeOfReferenceCodeSequence).CodeMeaning).toBe('Processing Algorithm');
    expect([equipment.SoftwareVersions].flat()).toEqual(['0.1.0', '1.2.0']);
  });

  it('holds one measurement group per instance with the coded body part, confidence, band, top 5 and image reference', () => {
    const measurements = children(dataset, '126010')[0];
    const groups = children(measurements, '125007');
    expect(groups).toHaveLength(2);

    const [chest, other] = groups;
    const chestFinding = children(chest, '123014')[0];
    expect(chestFinding.ValueType).toBe('CODE');
    expect(first(chestFinding.ConceptCodeSequence)).toMatchObject({
      CodeValue: '816094009',
      CodingSchemeDesignator: 'SCT',
      CodeMeaning: 'Chest',
    });
    expect(children(chestFinding, 'BPE')[0].TextValue).toBe('CHEST');
    expect(children(chestFinding, '111001')[0].TextValue).toBe('bodypart-efficientnet');
    expect(children(chestFinding, '111003')[0].TextValue).toBe('1.2.0');
    expect(children(chestFinding, '111002')[0].TextValue).toContain(input.model.sha256);
    const image = first(children(chestFinding, '121112')[0].ReferencedSOPSequence);
    expect(image.ReferencedSOPInstanceUID).toBe(input.instances[0].source.SOPInstanceUID);

    expect(Number(first(children(chest, 'CONFIDENCE')[0].MeasuredValueSequence).NumericValue)).toBeCloseTo(97.31, 2);
    expect(children(chest, 'BAND')[0].TextValue).toBe('green');
    const top5 = children(children(chest, 'TOP5')[0], 'PROBABILITY');
    expect(top5).toHaveLength(5);
    expect(first(children(top5[2], '123014')[0].ConceptCodeSequence).CodeValue).toBe('122495006');
    expect(children(chest, 'REGWARN')).toHaveLength(0);
    // An OOD score alone (below the model's threshold, no warning) is not reported.
    expect(children(chest, 'OOD')).toHaveLength(0);
    expect(children(chest, 'OODSCORE')).toHaveLength(0);

    // Others: a text value, no anatomic code; the disagreeing header gives a warning item.
    const otherFinding = children(other, '123014')[0];
    expect(otherFinding).toMatchObject({ ValueType: 'TEXT', TextValue: 'Others' });
    expect(children(other, 'REGWARN')[0].TextValue).toBe('Header says HAND; the model sees Others');
    expect(children(other, 'WARNING')[0].TextValue).toMatch(/lossy JPEG/);
  });

  it('reports the out-of-distribution warning with its score in the flagged instance group only', () => {
    const flagged = buildStudyReport(
      studyInput({ instances: [outOfDistribution(instanceResult({ n: 1 })), instanceResult({ n: 2 })] }),
    );
    const check = dciodvfy(tmp.file('ood.dcm', flagged.bytes));
    expect(check.errors).toEqual([]);
    expect(check.warnings.filter((w) => !w.includes('<99XRAY>'))).toEqual([]);

    const [ood, ordinary] = children(children(readDicom(flagged.bytes), '126010')[0], '125007');
    expect(children(ood, 'OOD')).toEqual([
      expect.objectContaining({
        ValueType: 'TEXT',
        RelationshipType: 'CONTAINS',
        TextValue: OUT_OF_DISTRIBUTION_NOTICE,
      }),
    ]);
    const [score] = children(ood, 'OODSCORE');
    expect(score).toMatchObject({ ValueType: 'NUM', RelationshipType: 'CONTAINS' });
    const measured = first(score.MeasuredValueSequence);
    expect(Number(measured.NumericValue)).toBe(3.14);
    expect(first(measured.MeasurementUnitsCodeSequence)).toMatchObject({
      CodeValue: '{score}',
      CodingSchemeDesignator: 'UCUM',
      CodeMeaning: 'no units',
    });
    expect(children(ordinary, 'OOD')).toHaveLength(0);
    expect(children(ordinary, 'OODSCORE')).toHaveLength(0);

    const tree = dcmtk('dsrdump', ['+Pc', '+Pl', tmp.file('ood-tree.dcm', flagged.bytes)]);
    expect(tree).toContain(`<contains TEXT:(OOD,99XRAY,"Out-of-distribution input")="${OUT_OF_DISTRIBUTION_NOTICE}">`);
    expect(tree).toContain(
      '<contains NUM:(OODSCORE,99XRAY,"Out-of-distribution score")="3.14" ({score},UCUM,"no units")>',
    );
  });

  it('reports the warning without a score when the model gave none', () => {
    const flagged = buildStudyReport(studyInput({ instances: [outOfDistribution(instanceResult({ n: 1 }), null)] }));
    const group = children(children(readDicom(flagged.bytes), '126010')[0], '125007')[0];
    expect(children(group, 'OOD')).toHaveLength(1);
    expect(children(group, 'OODSCORE')).toHaveLength(0);
  });

  it('lists the source instances as evidence and in the image library, and says it is not for diagnosis', () => {
    const evidence = first(dataset.PertinentOtherEvidenceSequence);
    const sops = [first(evidence.ReferencedSeriesSequence).ReferencedSOPSequence].flat() as Natural[];
    expect(sops.map((s) => s.ReferencedSOPInstanceUID)).toEqual(input.instances.map((i) => i.source.SOPInstanceUID));
    const library = children(children(dataset, '111028')[0], '126200')[0];
    expect(
      (library.ContentSequence as Natural[]).map((i) => first(i.ReferencedSOPSequence).ReferencedSOPInstanceUID),
    ).toEqual(input.instances.map((i) => i.source.SOPInstanceUID));
    expect(children(dataset, '121106')[0].TextValue).toMatch(/not for diagnosis/i);
  });

  it('prints as a readable tree with dsrdump', () => {
    const tree = dcmtk('dsrdump', ['-Ee', '-Ec', tmp.file('tree.dcm', report.bytes)]);
    expect(tree).toContain('Comprehensive SR Document');
    expect(tree).toContain('(816094009,SCT,"Chest")');
    expect(tree).toContain('"Registration check warning"');
    expect(tree).toContain('Completion Flag     : COMPLETE');
  });

  it('matches the dsrdump example in docs/dicom.md', () => {
    const doc = readFileSync(path.join(__dirname, '../../../../docs/dicom.md'), 'utf8');
    const example = /\$ dsrdump \+Pc \+Pl sr\.dcm\n([\s\S]*?)\n```/.exec(doc)?.[1];
    const tree = dcmtk('dsrdump', ['+Pc', '+Pl', tmp.file('doc.dcm', report.bytes)]);
    expect(example).toBeDefined();
    expect(tree.trim()).toBe(example!.trim());
  });

  it('is byte-identical when built again from the same input (a retry stores the same object)', () => {
    const again = buildStudyReport(studyInput());
    expect(again.sopInstanceUid).toBe(report.sopInstanceUid);
    expect(again.seriesInstanceUid).toBe(report.seriesInstanceUid);
    expect(again.bytes.equals(report.bytes)).toBe(true);
  });

  it('is a new document for another model or another set of instances, in the same series', () => {
    const newModel = buildStudyReport(studyInput({ model: { ...input.model, sha256: 'f'.repeat(64) } }));
    const oneInstance = buildStudyReport(studyInput({ instances: [input.instances[0]] }));
    expect(new Set([report.sopInstanceUid, newModel.sopInstanceUid, oneInstance.sopInstanceUid]).size).toBe(3);
    expect(newModel.seriesInstanceUid).toBe(report.seriesInstanceUid);
  });

  it('codes all 22 labels and still passes dciodvfy', () => {
    const instances = BODY_PART_LABELS.map((label, i) =>
      instanceResult({
        n: i + 1,
        prediction: { ...instanceResult({ n: 1 }).prediction, label, classIndex: i },
      }),
    );
    const all = buildStudyReport(studyInput({ instances }));
    expect(dciodvfy(tmp.file('all.dcm', all.bytes)).errors).toEqual([]);
    const groups = children(children(readDicom(all.bytes), '126010')[0], '125007');
    groups.forEach((group, i) => {
      const finding = children(group, '123014')[0];
      const coding = bodyPartCoding(BODY_PART_LABELS[i]);
      if (coding.code) expect(first(finding.ConceptCodeSequence).CodeValue).toBe(coding.code.value);
      else expect(finding.TextValue).toBe('Others');
    });
  });

  it('keeps non-ASCII names intact, declaring UTF-8 since dcmjs writes UTF-8', () => {
    const named = buildStudyReport(studyInput({ study: { ...input.study, PatientName: 'Müller^Jürgen' } }));
    const back = readDicom(named.bytes);
    expect(first(back.PatientName).Alphabetic ?? back.PatientName).toBe('Müller^Jürgen');
    const dump = dcmtk('dcmdump', ['+U8', tmp.file('named.dcm', named.bytes)]);
    expect(dump).toContain('[ISO_IR 192]');
    expect(dump).toContain('Müller^Jürgen');
    expect(dciodvfy(tmp.file('named2.dcm', named.bytes)).errors).toEqual([]);
  });

  it('takes Person Names in the form dcmjs reads them (component groups)', () => {
    const name = [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }];
    const named = buildStudyReport(studyInput({ study: { ...input.study, PatientName: name } }));
    const dump = dcmtk('dcmdump', ['+U8', '+P', '0010,0010', tmp.file('pn.dcm', named.bytes)]);
    expect(dump).toContain('[Yamada^Tarou=山田^太郎]');
    expect(dciodvfy(tmp.file('pn2.dcm', named.bytes)).errors).toEqual([]);
  });

  it('refuses a study without results or without a StudyInstanceUID', () => {
    expect(() => buildStudyReport(studyInput({ instances: [] }))).toThrow(/at least one instance/);
    expect(() => buildStudyReport(studyInput({ study: { ...input.study, StudyInstanceUID: '' } }))).toThrow(
      /StudyInstanceUID/,
    );
  });
});
