"""The hall simulator: whole hall days run through the real engine, to compare
calling policies on identical visitors and check them against queueing bounds."""
