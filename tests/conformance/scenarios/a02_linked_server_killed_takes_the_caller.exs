Code.require_file("../T.exs", __DIR__)
loop = fn loop -> receive do _ -> loop.(loop) end end
T.run(fn ->
  pid = spawn_link(fn -> loop.(loop) end)
  T.out("linked", pid)
  Process.exit(pid, :kill)
  T.settle()
  T.out("unreachable", self())
end)
T.done()
