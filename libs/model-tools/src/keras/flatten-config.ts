import { XrayError } from '@xray/shared';

/** A Keras layer config as found in model_config (Keras 2) or config.json (Keras 3). */
export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, any>;
  name?: string;
  inbound_nodes?: unknown[];
  module?: string;
  registered_name?: string | null;
  build_config?: { input_shape?: (number | null)[] };
}

/** A layer of the flattened graph, in Keras 2 functional form (what tfjs-layers reads). */
interface FlatLayer {
  class_name: string;
  config: Record<string, any>;
  name: string;
  inbound_nodes: Array<Array<[string, number, number, Record<string, never>]>>;
}

type Ref = [layer: string, tensor: number];

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

function invalid(message: string): XrayError {
  return new XrayError('MODEL_INVALID', message);
}

/**
 * Turns a Keras model config (Keras 2 or 3, Sequential or Functional, with models nested in
 * it as transfer learning produces) into ONE functional graph with the original layer names,
 * so that any layer (e.g. `conv5_block30_concat` inside a `densenet201` sub-model) can be
 * reached. Returns a tfjs-layers model topology.
 */
export function flattenKerasModel(model: KerasLayerConfig): { class_name: 'Model'; config: Record<string, any> } {
  if (!MODEL_CLASSES.has(model.class_name))
    throw invalid(`the top-level object is a ${model.class_name}, not a Keras model`);
  const layers: FlatLayer[] = [];
  const seen = new Set<string>();
  const emit = (layer: KerasLayerConfig, inputs: Ref[]): Ref => {
    const name = layerName(layer);
    if (seen.has(name)) throw invalid(`two layers are named "${name}" once nested models are flattened`);
    seen.add(name);
    layers.push({
      class_name: layer.class_name,
      config: cleanLayerConfig(layer),
      name,
      inbound_nodes: inputs.length
        ? [inputs.map(([l, t]) => [l, 0, t, {}] as [string, number, number, Record<string, never>])]
        : [],
    });
    return [name, 0];
  };
  const { inputs, outputs } = flattenInto(model, undefined, emit);
  return {
    class_name: 'Model',
    config: {
      name: model.config.name ?? 'model',
      layers,
      input_layers: inputs.map(([l, t]) => [l, 0, t]),
      output_layers: outputs.map(([l, t]) => [l, 0, t]),
    },
  };
}

type Emit = (layer: KerasLayerConfig, inputs: Ref[]) => Ref;

/**
 * Emits the layers of `model`; `outerInputs` replace its input layers when it is nested.
 * Returns the refs of its inputs (top level) and outputs.
 */
function flattenInto(
  model: KerasLayerConfig,
  outerInputs: Ref[] | undefined,
  emit: Emit,
): { inputs: Ref[]; outputs: Ref[] } {
  return model.class_name === 'Sequential'
    ? flattenSequential(model, outerInputs, emit)
    : flattenFunctional(model, outerInputs, emit);
}

function flattenSequential(model: KerasLayerConfig, outerInputs: Ref[] | undefined, emit: Emit) {
  const layers = [...(model.config.layers as KerasLayerConfig[])];
  let current: Ref;
  let inputs: Ref[];
  if (outerInputs) {
    if (layers[0]?.class_name === 'InputLayer') layers.shift();
    inputs = outerInputs;
    current = outerInputs[0];
  } else {
    let inputLayer = layers[0]?.class_name === 'InputLayer' ? layers.shift()! : undefined;
    if (!inputLayer) {
      const shape =
        layers[0]?.config.batch_input_shape ?? layers[0]?.config.batch_shape ?? layers[0]?.build_config?.input_shape;
      if (!shape) throw invalid(`the Sequential model "${model.config.name}" does not say its input shape`);
      inputLayer = {
        class_name: 'InputLayer',
        config: { name: `${model.config.name}_input`, batch_input_shape: shape, dtype: 'float32' },
      };
    }
    current = emit(inputLayer, []);
    inputs = [current];
  }
  for (const layer of layers) {
    current = MODEL_CLASSES.has(layer.class_name)
      ? single(flattenInto(layer, [current], emit).outputs, layer)
      : emit(layer, [current]);
  }
  return { inputs, outputs: [current] };
}

function flattenFunctional(model: KerasLayerConfig, outerInputs: Ref[] | undefined, emit: Emit) {
  const config = model.config;
  const layers = config.layers as KerasLayerConfig[];
  const inputLayers = refList(config.input_layers);
  const outputLayers = refList(config.output_layers);
  const resolved = new Map<string, Ref>(); // `${innerLayer}:${tensor}` -> flat ref
  const lookup = (layer: string, tensor: number): Ref | undefined => resolved.get(`${layer}:${tensor}`);

  if (outerInputs) {
    if (outerInputs.length !== inputLayers.length) {
      throw invalid(
        `nested model "${config.name}" takes ${inputLayers.length} inputs but is given ${outerInputs.length}`,
      );
    }
    inputLayers.forEach(([layer], i) => resolved.set(`${layer}:0`, outerInputs[i]));
  }

  // Layers are listed in topological order in practice; loop until all are placed to be safe.
  let pending = layers.filter((l) => !(outerInputs && l.class_name === 'InputLayer'));
  while (pending.length) {
    const next: KerasLayerConfig[] = [];
    for (const layer of pending) {
      const calls = inboundCalls(layer);
      if (calls.length > 1)
        throw invalid(`layer "${layerName(layer)}" is called ${calls.length} times (shared layers are not supported)`);
      const inputs = (calls[0] ?? []).map(([l, t]) => lookup(l, t));
      if (inputs.some((r) => r === undefined)) {
        next.push(layer);
        continue;
      }
      const refs = inputs as Ref[];
      if (MODEL_CLASSES.has(layer.class_name)) {
        flattenInto(layer, refs, emit).outputs.forEach((ref, t) => resolved.set(`${layerName(layer)}:${t}`, ref));
      } else {
        resolved.set(`${layerName(layer)}:0`, emit(layer, refs));
      }
    }
    if (next.length === pending.length)
      throw invalid(`model "${config.name}": cannot order layers ${next.map(layerName).join(', ')}`);
    pending = next;
  }
  const out = (refs: Array<[string, number]>) =>
    refs.map(([layer, t]) => {
      const ref = lookup(layer, t);
      if (!ref) throw invalid(`model "${config.name}" refers to an unknown layer "${layer}"`);
      return ref;
    });
  return { inputs: outerInputs ?? out(inputLayers), outputs: out(outputLayers) };
}

function single(outputs: Ref[], layer: KerasLayerConfig): Ref {
  if (outputs.length !== 1)
    throw invalid(`nested model "${layerName(layer)}" has ${outputs.length} outputs inside a Sequential model`);
  return outputs[0];
}

function layerName(layer: KerasLayerConfig): string {
  const name = layer.config?.name ?? layer.name;
  if (typeof name !== 'string' || !name) throw invalid(`a ${layer.class_name} layer has no name`);
  return name;
}

/** [[layer, node, tensor], ...] or a single [layer, node, tensor] (Keras 3, one input) -> [layer, tensor][]. */
function refList(value: unknown): Array<[string, number]> {
  if (!Array.isArray(value)) return [];
  const list = typeof value[0] === 'string' ? [value] : value;
  return list.map((ref: any[]) => [ref[0], ref[2] ?? 0]);
}

/**
 * The calls of a layer, each a list of its input tensors as [layer, tensor index]:
 * Keras 2 `[[["name", node, tensor, {}], ...]]`, Keras 3 `[{args: [...keras tensors...], kwargs}]`.
 */
function inboundCalls(layer: KerasLayerConfig): Array<Array<[string, number]>> {
  return (layer.inbound_nodes ?? []).map((node: any) => {
    if (Array.isArray(node)) return node.map((ref: any[]) => [ref[0], ref[2] ?? 0] as [string, number]);
    const found: Array<[string, number]> = [];
    const visit = (value: any) => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') {
        if (value.class_name === '__keras_tensor__') {
          const [l, , t] = value.config.keras_history;
          found.push([l, t]);
        } else Object.values(value).forEach(visit);
      }
    };
    visit(node.args);
    return found;
  });
}

/**
 * A layer config in the form tfjs-layers reads: dtype policies reduced to their name,
 * Keras 3 `batch_shape` renamed, and initializers/regularizers/constraints dropped (weights
 * are loaded, and Keras 3 serialises them in a form tfjs does not know).
 */
function cleanLayerConfig(layer: KerasLayerConfig): Record<string, any> {
  const config: Record<string, any> = { ...layer.config, name: layerName(layer) };
  for (const key of Object.keys(config)) {
    if (/(_initializer|_regularizer|_constraint)$/.test(key) || key === 'activity_regularizer') delete config[key];
  }
  if (config.dtype && typeof config.dtype === 'object') config.dtype = config.dtype.config?.name ?? 'float32';
  if (layer.class_name === 'InputLayer') {
    config.batch_input_shape ??= config.batch_shape;
    delete config.batch_shape;
  } else {
    delete config.batch_input_shape;
    delete config.batch_shape;
  }
  if (layer.class_name === 'ReLU' && ((config.negative_slope ?? 0) !== 0 || (config.threshold ?? 0) !== 0)) {
    throw invalid(`ReLU layer "${config.name}" uses negative_slope/threshold, which TensorFlow.js does not support`);
  }
  if (typeof config.activation === 'object' && config.activation !== null) {
    throw invalid(`layer "${config.name}" uses a custom activation object, which cannot be imported`);
  }
  return config;
}
