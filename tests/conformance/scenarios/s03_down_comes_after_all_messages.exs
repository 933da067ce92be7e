Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  me = self()
  {pid, _ref} = spawn_monitor(fn -> for i <- 1..5, do: send(me, {:n, i}); exit(:done) end)
  T.out("pid", pid)
  T.settle()
  T.flush()
end)
T.done()
