"""The platform's side of instances: the zygote client, instance handles and per-function pools."""
