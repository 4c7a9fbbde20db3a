"""What the lathe and the mill share: words and blocks, program memory, Macro B, alarms, canonical motions."""
