"""Model servers: `ManagedServer` starts one for a checkpoint and always stops it; `gage serve` is the CPU one."""
