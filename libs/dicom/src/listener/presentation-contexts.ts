import { ACCEPTED_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS, isAcceptedImageSopClass } from '../sop-classes';

/** PS3.8 presentation context results. */
export const ContextResult = { Accept: 0, AbstractSyntaxNotSupported: 3, TransferSyntaxesNotSupported: 4 } as const;

const UNCOMPRESSED = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/**
 * The answer to one proposed presentation context. Storage contexts take the sender's first
 * proposed transfer syntax that libs/imaging decodes, so the instance is stored as the sender
 * has it; Verification takes an uncompressed one. Other SOP classes are refused here.
 */
export function negotiateContext(
  abstractSyntaxUid: string,
  proposedTransferSyntaxes: string[],
): { result: number; transferSyntaxUid?: string } {
  const accepted =
    abstractSyntaxUid === VERIFICATION_SOP_CLASS
      ? UNCOMPRESSED
      : isAcceptedImageSopClass(abstractSyntaxUid)
        ? ACCEPTED_TRANSFER_SYNTAXES
        : undefined;
  if (!accepted) return { result: ContextResult.AbstractSyntaxNotSupported };
  const chosen = proposedTransferSyntaxes.find((ts) => accepted.includes(ts));
  return chosen
    ? { result: ContextResult.Accept, transferSyntaxUid: chosen }
    : { result: ContextResult.TransferSyntaxesNotSupported };
}
