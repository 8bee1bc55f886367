// Placeholder until the Evaluation module lands.
