Code.require_file("../T.exs", __DIR__)
pid = spawn(fn -> :ok end)
T.settle()
try do
  Process.link(pid)
catch
  :error, :noproc -> T.out("caught", :noproc)
end
T.run(fn -> Process.link(pid) end)
T.done()
