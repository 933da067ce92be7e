Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  {pid, _ref} = spawn_monitor(&T.wait_forever/0)
  Process.exit(pid, {:custom, 1})
  T.settle()
  T.flush()
end)
T.done()
