"""Audio analysis: one streaming decode per file feeding fingerprint, segmentation, amplitude and flavor."""
