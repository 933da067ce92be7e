Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  T.out("self", self())
  pid = T.start_forwarder()
  Process.exit(pid, :boom)
  receive do {:got, m} -> T.out("got", m) end
end)
T.done()
