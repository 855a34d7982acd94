/**
 * The one instruction that goes with an image, for training (the chat export) and inference
 * (OpenAI-compatible endpoints) alike: CAD-Coder's prompt, test100's `text` field, so exported
 * data and served models stay compatible with CAD-Coder checkpoints.
 */
export const IMAGE_TO_CAD_PROMPT = 'Generate the CADQuery code needed to create the CAD for the provided image. Just the code, no other words.';
