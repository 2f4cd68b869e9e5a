import { Inject, Injectable } from '@nestjs/common';
import {
  findInstanceImageKeys,
  listStudyDicomObjects,
  loadStudyRecords,
  markDicomObjectBuilt,
  type StoredDicomObject,
} from '@xray/db';
import {
  buildSecondaryCapture,
  buildStudyReport,
  derivedInstanceAttributes,
  derivedStudyAttributes,
  readSourceAttributes,
  type DicomObject,
  type InstanceResult,
  type ProducerIdentity,
  type SourceStudyAttributes,
} from '@xray/dicom';
import { checkRegistration, describeMismatch } from '@xray/shared';
import { clientKey, type ObjectStore } from '@xray/storage';
import sharp from 'sharp';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, OBJECT_STORE } from '../nest/tokens';
import { predictionView } from '../views/study-view';
import { planStudyObjects, type PlannedInstance, type StudyObjectsPlan } from './study-objects-plan';

/** Who makes the objects (observer context, ContributingEquipmentSequence). */
export const XRAY_PRODUCER: ProducerIdentity = {
  manufacturer: 'xray-bodypart project',
  modelName: 'xray-bodypart',
  softwareVersion: '0.1.0',
};

/** A reported instance with what the builders need: its source attributes and result. */
interface SourcedInstance {
  planned: PlannedInstance;
  study: SourceStudyAttributes | undefined;
  result: InstanceResult;
  overlayKey: string | null;
}

/**
 * Builds a completed study's DICOM objects once and caches their bytes in object storage
 * (`clients/<client>/studies/<study>/dicom/<uid>.dcm`): the recorded objects that have no bytes
 * yet are built from the study record, the stored originals' headers and the Grad-CAM++ overlays.
 */
@Injectable()
export class StudyObjectsBuilder {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  /** The study's objects, every one built. */
  async ensureBuilt(clientId: string, studyId: string): Promise<StoredDicomObject[]> {
    const objects = await listStudyDicomObjects(this.ds, studyId);
    const missing = objects.filter((o) => !o.objectKey);
    if (missing.length === 0) return objects;
    const [record] = await loadStudyRecords(this.ds, [studyId]);
    const plan = record && planStudyObjects(record);
    if (!plan) throw new Error(`study ${studyId} has no classified instance to report`);
    const instances = await Promise.all(plan.instances.map((planned) => this.source(clientId, studyId, planned)));
    const study =
      instances.find((i) => i.planned.record.id === plan.headerInstanceId)?.study ??
      derivedStudyAttributes(studyId, record.accessionNumber);
    const completedAt = new Date(Math.max(...record.instances.map((i) => Date.parse(i.updatedAt))));

    for (const object of missing) {
      const built = await this.build(object, plan, study, instances, completedAt);
      if (built.sopInstanceUid !== object.sopInstanceUid)
        throw new Error(`built ${object.kind} ${built.sopInstanceUid} but ${object.sopInstanceUid} was announced`);
      const key = clientKey(clientId, 'studies', studyId, 'dicom', `${built.sopInstanceUid}.dcm`);
      await this.store.put(key, built.bytes, 'application/dicom');
      await markDicomObjectBuilt(this.ds, object.id, key);
      object.objectKey = key;
    }
    return objects;
  }

  private async build(
    object: StoredDicomObject,
    plan: StudyObjectsPlan,
    study: SourceStudyAttributes,
    instances: SourcedInstance[],
    completedAt: Date,
  ): Promise<DicomObject> {
    const common = { study, model: plan.model, producer: XRAY_PRODUCER, completedAt };
    if (object.kind === 'sr') return buildStudyReport({ ...common, instances: instances.map((i) => i.result) });
    const instance = instances.find((i) => i.planned.record.id === object.instanceId);
    if (!instance?.overlayKey) throw new Error(`instance ${object.instanceId} has no Grad-CAM++ overlay`);
    return buildSecondaryCapture({
      ...common,
      model: instance.planned.prediction.model,
      instance: instance.result,
      layer: instance.planned.prediction.explanation.layer ?? 'unknown layer',
      overlay: await this.store.getBuffer(instance.overlayKey),
    });
  }

  /** The source attributes of an instance: its DICOM header, or derived UIDs and the image's size. */
  private async source(clientId: string, studyId: string, planned: PlannedInstance): Promise<SourcedInstance> {
    const keys = await findInstanceImageKeys(this.ds, clientId, planned.record.id);
    if (!keys) throw new Error(`instance ${planned.record.id} is gone`);
    const original = await this.store.getBuffer(keys.objectKey);
    let study: SourceStudyAttributes | undefined;
    let source;
    if (planned.fromDicom) {
      ({ study, instance: source } = readSourceAttributes(original));
    } else {
      const { width, height } = await sharp(original).metadata();
      if (!width || !height) throw new Error(`instance ${planned.record.id}: cannot read the image size`);
      source = derivedInstanceAttributes(studyId, planned.record.id, { rows: height, columns: width });
    }
    const { prediction } = planned;
    const registration = checkRegistration(planned.record.dicom, prediction.label);
    return {
      planned,
      study,
      overlayKey: keys.overlayKey,
      result: {
        resultId: planned.resultId,
        source,
        // As the API shows it: the SR and SC report its out-of-distribution warning and score.
        prediction: predictionView(prediction),
        registration:
          registration.status === 'mismatch'
            ? { status: 'disagrees', message: describeMismatch(registration, prediction.label).join(' ') }
            : { status: registration.status === 'consistent' ? 'agrees' : 'unknown' },
        warnings: [],
      },
    };
  }
}
