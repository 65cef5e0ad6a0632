/**
 * The model card in an ONNX file's `metadata_props`: one entry per card field (docs/formats.md),
 * text fields as they are and the others (`embeddingSize`, `input`, `spec`, `threshold`,
 * `validation`, `flipTTA`, `version`) as JSON, so any ONNX tool shows them and
 * `loadModel('model.onnx')` gets the card back. The card's `weights` field is not stored: it is
 * the file itself.
 */
import { modelCardSchema, parseModelCard, type ModelCard } from '../io/model-card.js';
import type { StringStringEntryProto } from './proto.js';

/** Card fields stored as plain text; the others are JSON. */
const TEXT_FIELDS: ReadonlySet<string> = new Set(['format', 'arch', 'attention', 'source', 'createdAt', 'library']);
/** The card's fields: other entries (added by other tools) are left alone. */
const CARD_FIELDS: ReadonlySet<string> = new Set(Object.keys(modelCardSchema.shape));

/** The `metadata_props` entries of a card. */
export function cardToMetadata(card: ModelCard): StringStringEntryProto[] {
  const out: StringStringEntryProto[] = [];
  for (const [key, value] of Object.entries(card)) {
    if (key === 'weights' || value === undefined) continue;
    out.push({ key, value: TEXT_FIELDS.has(key) ? String(value) : JSON.stringify(value) });
  }
  return out;
}

/**
 * The card stored in `metadata_props`, or null when the file carries none (no `format` entry
 * `ecacface-model-card`). Throws naming the file when the entries do not make a valid card.
 */
export function cardFromMetadata(entries: readonly StringStringEntryProto[], weights: string, source: string): ModelCard | null {
  const meta = new Map(entries.map((e) => [e.key, e.value]));
  if (meta.get('format') !== 'ecacface-model-card') return null;
  const fields: Record<string, unknown> = { weights };
  for (const [key, value] of meta) {
    if (!CARD_FIELDS.has(key) || key === 'weights') continue;
    if (TEXT_FIELDS.has(key)) fields[key] = value;
    else {
      try {
        fields[key] = JSON.parse(value);
      } catch (e) {
        throw new Error(`${source}: metadata '${key}' is not valid JSON (${(e as Error).message})`);
      }
    }
  }
  return parseModelCard(fields, `${source} (metadata_props)`);
}
