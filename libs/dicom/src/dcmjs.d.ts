// dcmjs ships no type declarations; these cover the parts libs/dicom uses.
declare module 'dcmjs' {
  /** A dataset keyed by DICOM keyword (dcmjs "naturalized" form). */
  type NaturalDataset = Record<string, unknown>;

  interface CodeOptions {
    value: string;
    meaning: string;
    schemeDesignator: string;
    schemeVersion?: string;
  }

  export const data: {
    DicomMetaDictionary: {
      denaturalizeDataset(dataset: NaturalDataset): Record<string, unknown>;
      naturalizeDataset(dataset: Record<string, unknown>): NaturalDataset;
      uid(): string;
    };
    DicomDict: new (meta: Record<string, unknown>) => {
      dict: Record<string, unknown>;
      write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
    };
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: Record<string, unknown>,
      ): {
        meta: Record<string, unknown>;
        dict: Record<string, unknown>;
      };
    };
  };

  export const sr: {
    coding: {
      CodedConcept: new (options: CodeOptions) => NaturalDataset;
    };
    valueTypes: {
      CodeContentItem: new (options: { name: unknown; value: unknown; relationshipType?: string }) => NaturalDataset;
      TextContentItem: new (options: { name: unknown; value: string; relationshipType?: string }) => NaturalDataset;
      UIDRefContentItem: new (options: { name: unknown; value: string; relationshipType?: string }) => NaturalDataset;
      NumContentItem: new (options: {
        name: unknown;
        value: number;
        unit: unknown;
        relationshipType?: string;
      }) => NaturalDataset;
      ContainerContentItem: new (options: {
        name: unknown;
        relationshipType?: string;
        templateID?: string;
      }) => NaturalDataset;
      ImageContentItem: new (options: {
        name: unknown;
        referencedSOPClassUID: string;
        referencedSOPInstanceUID: string;
        relationshipType?: string;
      }) => NaturalDataset;
      RelationshipTypes: Record<
        | 'CONTAINS'
        | 'HAS_ACQ_CONTENT'
        | 'HAS_CONCEPT_MOD'
        | 'HAS_OBS_CONTEXT'
        | 'HAS_PROPERTIES'
        | 'INFERRED_FROM'
        | 'SELECTED_FROM',
        string
      >;
    };
    templates: {
      AlgorithmIdentification: new (options: {
        name: string;
        version: string;
        parameters?: string[];
      }) => NaturalDataset[];
    };
  };
}
