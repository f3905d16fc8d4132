// Public API of the file-reading half of the LoRA importer (framework-free, no Nest, no database).

export * from './base-model.js';
export * from './civitai.js';
export * from './facts.js';
export * from './hasher.js';
export * from './image-type.js';
export * from './inspect-adapter.js';
export * from './lora-kind.js';
export * from './merge.js';
export * from './nsfw.js';
export * from './previews.js';
export * from './safetensors-header.js';
export * from './scanner.js';
export * from './sidecar-a1111.js';
export * from './sidecar-civitai-info.js';
export * from './sidecar-cm-info.js';
export * from './sidecar-lora-manager.js';
export * from './sidecar-sdnext.js';
export * from './sidecar-swarm.js';
export * from './sidecars.js';
