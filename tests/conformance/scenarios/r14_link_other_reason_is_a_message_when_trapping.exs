Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  Process.flag(:trap_exit, true)
  pid = spawn_link(fn -> raise "bad" end)
  T.out("child", pid)
  T.settle()
  T.flush()
end)
T.done()
