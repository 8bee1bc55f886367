// Placeholder until the Plots module lands.
