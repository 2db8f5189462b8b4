"""moto server + fidelity layer fixtures (owned by the fidelity work)."""
