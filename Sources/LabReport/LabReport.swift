// Placeholder until the LabReport module lands.
