/** The 22 UNIFESP body-part classes; the array index is the competition's `Target` index. */
export const BODY_PART_LABELS = [
  'Abdomen',
  'Ankle',
  'Cervical Spine',
  'Chest',
  'Clavicles',
  'Elbow',
  'Feet',
  'Finger',
  'Forearm',
  'Hand',
  'Hip',
  'Knee',
  'Lower Leg',
  'Lumbar Spine',
  'Others',
  'Pelvis',
  'Shoulder',
  'Sinus',
  'Skull',
  'Thigh',
  'Thoracic Spine',
  'Wrist',
] as const;

export type BodyPartLabel = (typeof BODY_PART_LABELS)[number];

export const NUM_BODY_PARTS = BODY_PART_LABELS.length;
