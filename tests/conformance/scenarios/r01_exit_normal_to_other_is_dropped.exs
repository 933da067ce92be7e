Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  pid = spawn(&T.wait_forever/0)
  T.out("exit", Process.exit(pid, :normal))
  T.settle()
  T.out("alive", Process.alive?(pid))
end)
T.done()
