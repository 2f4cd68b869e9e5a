import type { InstanceRecord, PlannedDicomObject, PredictionRecord, StudyRecord } from '@xray/db';
import { derivedSourceUids, secondaryCaptureUidOf, studyReportUidOf } from '@xray/dicom';
import type { ModelRefDto } from '@xray/shared';

/** A reported instance: where its source UIDs come from and what it gets. */
export interface PlannedInstance {
  record: InstanceRecord;
  prediction: PredictionRecord;
  /** True when the source is DICOM with its UIDs known: the header gives the modules and references. */
  fromDicom: boolean;
  /** The seed of the instance's object UIDs: the source SOP Instance UID (DICOM), our instance id otherwise. */
  resultId: string;
  sourceSopInstanceUid: string;
  /** Has a Grad-CAM++ overlay, so gets a Secondary Capture. */
  explained: boolean;
}

export interface StudyObjectsPlan {
  studyInstanceUid: string;
  /** The DICOM instance whose header gives the Patient and Study modules; undefined for PNG/JPEG studies. */
  headerInstanceId: string | undefined;
  model: ModelRefDto;
  instances: PlannedInstance[];
  objects: PlannedDicomObject[];
}

/**
 * The DICOM objects a completed study gets, with their UIDs, from the study record alone (the
 * same record the study.completed webhook carries), so the UIDs are known before anything is
 * built: one SR over every classified instance, one SC per explained instance. DICOM sources keep
 * their UIDs (the objects go into the source study; the first DICOM instance's study when a study
 * mixes several); PNG/JPEG studies get UIDs derived from our ids. Undefined when no instance was classified.
 */
export function planStudyObjects(study: StudyRecord): StudyObjectsPlan | undefined {
  const instances = study.instances
    .filter((record): record is InstanceRecord & { prediction: PredictionRecord } => record.prediction !== null)
    .map((record): PlannedInstance => {
      const fromDicom = record.format === 'dicom' && !!record.dicom?.sopInstanceUid && !!record.dicom.studyInstanceUid;
      const sourceSopInstanceUid = fromDicom ? record.dicom!.sopInstanceUid! : derivedSourceUids.instance(record.id);
      return {
        record,
        prediction: record.prediction,
        fromDicom,
        resultId: fromDicom ? sourceSopInstanceUid : record.id,
        sourceSopInstanceUid,
        explained: record.prediction.explanation.status === 'done',
      };
    });
  if (instances.length === 0) return undefined;
  const header = instances.find((i) => i.fromDicom);
  const studyInstanceUid = header ? header.record.dicom!.studyInstanceUid! : derivedSourceUids.study(study.id);
  const model = instances[0].prediction.model;
  const sr: PlannedDicomObject = {
    kind: 'sr',
    instanceId: null,
    sopInstanceUid: studyReportUidOf(
      studyInstanceUid,
      model.sha256,
      instances.map((i) => i.sourceSopInstanceUid),
    ),
  };
  const scs = instances
    .filter((i) => i.explained)
    .map((i): PlannedDicomObject => ({
      kind: 'sc',
      instanceId: i.record.id,
      sopInstanceUid: secondaryCaptureUidOf(i.resultId, i.prediction.model.sha256),
    }));
  return { studyInstanceUid, headerInstanceId: header?.record.id, model, instances, objects: [sr, ...scs] };
}
