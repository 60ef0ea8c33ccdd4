"""The async engine: settings, sample loop, runtime, resume and caches."""
