Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  pid = spawn_link(fn -> receive do :crash -> 1 / Enum.count([]) end end)
  T.out("sending", :crash)
  send(pid, :crash)
  T.settle()
end)
T.done()
