module warren/bench/rawload

go 1.19
