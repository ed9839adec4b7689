export * from './model.js';
export { profileItems } from './profile.js';
export { CoMatrix, type Neighbours, type SimilarityOptions } from './matrix.js';
export { DecayingScores, selectTop } from './decay.js';
export { easeSolver, easeWeights, easeWeightsAsync, gramFromSets } from './ease.js';
export { coviewCounts, type CoviewCount, type ViewEvent } from './sessions.js';
