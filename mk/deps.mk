# Static third-party dependencies and the deployable ./bootstrap (owned by the build work).
bootstrap:
	@echo "static build not written yet" >&2; exit 1
